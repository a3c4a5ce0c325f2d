# Tests that fail on purpose: `sipfront test` must report each with what
# was expected and what was decided.

test "a DID expected on the wrong box" {
  request {
    method = "INVITE"
    ruri   = "sip:+15551230001@example.com"
    source = "198.51.100.7:5060"
  }
  expect {
    route  = route.did
    target = pool.asterisk.member.ast1
  }
}

test "a scanner expected to get 403" {
  request {
    method     = "INVITE"
    ruri       = "sip:100@example.com"
    user_agent = "friendly-scanner"
  }
  expect {
    action = "reply"
    status = 403
  }
}
