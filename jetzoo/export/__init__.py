"""`jetzoo export`: trained models as self-describing files for use outside jetzoo.

- `wrapper.py`: the tensors-in module that is exported (`ExportWrapper`) and why a model cannot be.
- `metadata.py`: what the exported file says about itself (inputs, feature names, standardisation,
  class names), as a dict.
- `onnx.py`: ONNX export with dynamic batch size and particle count, metadata in `metadata_props`
  and a JSON copy beside the file.
- `cli.py`: the command line.

May import: `jetzoo.training`, `jetzoo.registry`, `jetzoo.zoo`, `jetzoo.datamodules`, `jetzoo.physics`,
`jetzoo.io`, `jetzoo.errors`. Never `jetzoo.cli` or `jetzoo.bench`.
"""

from jetzoo.export.metadata import export_metadata
from jetzoo.export.onnx import export_onnx, onnx_outputs
from jetzoo.export.wrapper import ExportError, ExportWrapper, export_blocker

__all__ = ["ExportError", "ExportWrapper", "export_blocker", "export_metadata", "export_onnx", "onnx_outputs"]
