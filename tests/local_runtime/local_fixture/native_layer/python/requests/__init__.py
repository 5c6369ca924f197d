# Stands in for a dependency-layer package built for Lambda (aarch64): the compiled module next to it
# marks the layer as native. The local runtime must skip this layer and use the venv's `requests`.
raise ImportError("the aarch64 dependency layer was put on sys.path")
