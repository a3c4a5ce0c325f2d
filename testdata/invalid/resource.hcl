# resource and balance = "resource" go together.
pool "pstn" {
  balance = "resource" # ERROR 13: Missing Resource
  member "ast1" { uri = "sip:10.0.0.11" }
}

pool "capacity" {
  balance  = "resource"
  resource = "pstn"
  member "ast1" {
    uri      = "sip:10.0.0.11"
    capacity = { pstn = 30 }
  }
  member "ast2" { uri = "sip:10.0.0.12" } # ERROR 10: Missing Capacity
  member "ast3" {
    uri      = "sip:10.0.0.13"
    capacity = { video = 10 } # ERROR 16: Missing Capacity
  }
}

pool "mixed" {
  balance  = "least-calls"
  resource = "pstn" # ERROR 14: Resource Without Resource Balance
  member "ast1" { uri = "sip:10.0.0.11" }
}

pool "sticky" {
  balance  = "hash"
  affinity = "party" # ERROR 14: Affinity Contradicts Balance
  member "ast1" { uri = "sip:10.0.0.11" }
}

pool "typo" {
  affinity = "parti" # ERROR 14: Invalid Affinity
  member "ast1" { uri = "sip:10.0.0.11" }
}
