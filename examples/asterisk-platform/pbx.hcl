# The Asterisk pool and the table of which box owns which DID range.

pool "asterisk" {
  balance  = "round-robin" # round-robin | weighted | least-calls | hash | resource
  affinity = "party"       # attended transfer: the box already serving caller or callee

  failover {
    on        = [408, 500, 502, 503, 504]
    max_tries = 3
    timeout   = "3s" # no answer at all within this time: next member
  }

  probe {
    interval  = "5s"
    timeout   = "1s"
    threshold = 3 # down after 3 failed probes
    recover   = 2 # up again after 2 good ones
    accept    = ["2xx", "404"]
  }

  member "ast1" { uri = "sip:10.0.0.11:5060" }
  member "ast2" { uri = "sip:10.0.0.12:5060" }
  member "ast3" {
    uri      = "sip:10.0.0.13:5060"
    weight   = 2
    capacity = { pstn = 100 }
  }
}

prefixes "did-owners" { # longest-prefix table: prefix,member
  file = "did-owners.csv"
}
