from evo.ir.graph import Graph, Op, Quant, Tensor, DTYPES

__all__ = ["Graph", "Op", "Quant", "Tensor", "DTYPES"]
