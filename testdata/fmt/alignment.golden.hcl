pool "asterisk" {
  balance  = "round-robin"
  affinity = "party"
  failover {
    on        = [408, 500, 503]
    max_tries = 3
  }
  member "ast1" { uri = "sip:10.0.0.11:5060" }
  member "ast3" {
    uri      = "sip:10.0.0.13:5060"
    weight   = 2
    capacity = { pstn = 100 }
  }
}
