"""BitFalcon Python tools: model file format, integer reference, torch student.

`images`, `fnv` and `clihelp` need the standard library only; `format`, `letterbox`,
`postprocess`, `intsim`, `teacher` (its writer) and `datayaml` need numpy (+ PyYAML to read a
data.yaml), `train_data` numpy and PIL; `nn`, `yolo`, `export`, `onnx_export`, `train_loss`
and `train_quant` need torch. The command-line tools are the scripts beside this package
(tools/*.py, see tools/README.md).
"""
