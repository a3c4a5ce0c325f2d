# A filter does one thing.
filter "both" {
  when  = "method == 'FOO'"
  reply = 403
  drop  = true # ERROR 11: Conflicting Filter Actions
}
filter "nothing" { # WARNING 8: Filter Does Nothing
  when = "method == 'BAR'"
}
