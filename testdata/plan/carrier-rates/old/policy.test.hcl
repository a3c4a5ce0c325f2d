test "a scanner is dropped" {
  request {
    method     = "INVITE"
    ruri       = "sip:100@example.com"
    user_agent = "friendly-scanner"
    source     = "203.0.113.9:5060"
  }
  expect {
    action = "drop"
    by     = filter.scanners
  }
}

test "a DID goes to its owner" {
  request {
    method = "INVITE"
    ruri   = "sip:+15551230001@example.com"
    source = "198.51.100.7:5060"
  }
  expect {
    route  = route.did
    target = pool.asterisk.member.ast2
  }
}

test "asterisk calls the PSTN" {
  request {
    method = "INVITE"
    ruri   = "sip:+15557770000@example.com"
    source = "10.0.0.11:5060"
  }
  expect {
    route  = route.pstn
    target = carrier.acme
  }
}
