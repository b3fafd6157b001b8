"""The `gencomp` command (installed as the package `gencomp_cli`): parse, call, print."""
