"""The contract-test kit: the registry-wide checks jetzoo runs on its built-ins, for any installed plugin.

    jetzoo check-plugin DIST                      every model and datamodule DIST registers, checked
    pytest -p jetzoo.testing.plugin --jetzoo-dist DIST --pyargs jetzoo.testing.model_contract ...

- `model_contract`: builds, forward shapes, loss goes down, finite gradients (bf16 too), weights-only
  checkpoints that reload by short name, FLOPs counted, declared permutation invariance and
  `torch.compile`, ONNX parity or a one-line export blocker (docs/plugins.md);
- `datamodule_contract`: each view the datamodule declares, built from its `contract_sample(directory)`,
  in the batch layout of docs/DESIGN.md §4;
- `selection`: which entry points are checked (one distribution's, or all); `plugin`: the pytest plugin
  (the `--jetzoo-dist` option, the real-jets fixtures); `check`: the `jetzoo check-plugin` command.

May import: `jetzoo.bench`, `jetzoo.export`, `jetzoo.training`, `jetzoo.registry`, `jetzoo.zoo`,
`jetzoo.datamodules`, `jetzoo.generate`, `jetzoo.plots`, `jetzoo.metrics`, `jetzoo.physics`, `jetzoo.io`,
`jetzoo.errors`; pytest only in the test modules, the plugin and `check` (a test extra: nothing else in
jetzoo needs it). Never `jetzoo.cli`.
"""
