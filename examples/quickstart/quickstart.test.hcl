# Decisions the quickstart policy must make; `sipfront test examples/quickstart`
# checks them without a network.

test "a friendly scanner is dropped" {
  request {
    method     = "INVITE"
    ruri       = "sip:100@sipfront.test"
    source     = "203.0.113.9:5060"
    user_agent = "friendly-scanner"
  }
  expect {
    action = "drop"
    by     = filter.scanners
  }
}

test "SUBSCRIBE is not allowed" {
  request {
    method = "SUBSCRIBE"
    ruri   = "sip:100@sipfront.test"
    source = "127.0.0.1:5080"
  }
  expect {
    action = "reply"
    by     = filter.methods
  }
}

test "an extension goes to the pool" {
  request {
    method     = "INVITE"
    ruri       = "sip:100@sipfront.test"
    source     = "127.0.0.1:5080"
    user_agent = "demo-phone"
  }
  expect {
    action = "relay"
    route  = route.extensions
    target = pool.asterisk.member.ast1
  }
}

test "anything else takes the default route" {
  request {
    method = "INVITE"
    ruri   = "sip:alice@sipfront.test"
    source = "127.0.0.1:5080"
  }
  expect {
    action = "relay"
    route  = route.default
  }
}
