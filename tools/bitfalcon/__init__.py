"""BitFalcon Python tools: model file format, integer reference, torch student.

`format`, `letterbox`, `postprocess` and `intsim` need numpy only; `nn` and
`yolo` need torch.
"""
