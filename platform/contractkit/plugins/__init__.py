"""buf-compatible protoc plugins: each reads a CodeGeneratorRequest on stdin and writes a
CodeGeneratorResponse on stdout."""
