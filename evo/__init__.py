"""EVO: a memory-efficient TinyML inference engine that compiles .tflite models to C."""

__version__ = "0.1.0"
