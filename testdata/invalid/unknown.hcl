# Unknown blocks and attributes, with suggestions.
rout "default" { # ERROR 1: Unsupported block type
  to = pool.asterisk
}

filter "methods" {
  whn   = "method == 'FOO'" # ERROR 3: Unsupported argument
  when  = "method == 'FOO'"
  reply = 405
}

pool "asterisk" {
  balanse = "hash" # ERROR 3: Unsupported argument
  member "ast1" {
    url = "sip:10.0.0.11" # ERROR 5: Unsupported argument
    uri = "sip:10.0.0.11"
  }
}
