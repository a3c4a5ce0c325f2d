# An HCL syntax error: a doubled equals sign. The rest of the file is not
# checked, since its structure cannot be trusted.
filter "methods" {
  when  = "method == 'FOO'"
  reply = = 405 # ERROR 11: Invalid expression
}
