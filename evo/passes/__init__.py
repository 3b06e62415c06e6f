"""Graph-to-graph rewrites applied after import (see each module)."""
