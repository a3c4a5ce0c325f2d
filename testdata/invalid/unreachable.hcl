# Routes after an unconditional route can never match.
pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
}

route "everything" {
  to = pool.asterisk
}
route "later" { # WARNING 7: Unreachable Route
  when = "method == 'INVITE'"
  to   = pool.asterisk
}
route "always" { # WARNING 7: Unreachable Route
  when = "true"
  to   = pool.asterisk
}
