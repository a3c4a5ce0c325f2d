# Tests of the platform policy: `sipfront test examples/asterisk-platform`.
# Each request is decided by the compiled graph, without network; only the
# attributes written in expect are compared.

test "friendly scanner is dropped" {
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

test "an unsupported method is refused with 405" {
  request {
    method = "SUBSCRIBE"
    ruri   = "sip:alice@example.com"
    source = "203.0.113.9:5060"
  }
  expect {
    action = "reply"
    by     = filter.methods
    status = 405
  }
}

test "an IP address in From is refused" {
  request {
    method = "INVITE"
    ruri   = "sip:100@example.com"
    from   = "sip:100@203.0.113.9"
    source = "203.0.113.9:5060"
  }
  expect {
    action = "reply"
    by     = filter.ip-in-from
    status = 403
  }
}

test "a preloaded Route header is refused" {
  request {
    method  = "INVITE"
    ruri    = "sip:100@example.com"
    source  = "203.0.113.9:5060"
    headers = { Route = "<sip:evil.example;lr>" }
  }
  expect {
    action = "reply"
    by     = filter.preloaded-route
    status = 403
  }
}

test "a Route header inside a dialog passes" {
  request {
    method    = "BYE"
    ruri      = "sip:100@10.0.0.12"
    from      = "sip:alice@example.com"
    source    = "203.0.113.50:5060"
    in_dialog = true
    headers   = { Route = "<sip:sip.example.com;lr>" }
  }
  expect {
    action = "relay"
    route  = route.default
  }
}

test "a subscriber without credentials is challenged" {
  request {
    method = "INVITE"
    ruri   = "sip:100@example.com"
    from   = "sip:alice@example.com"
    source = "203.0.113.50:5060"
  }
  expect { action = "challenge" }
}

test "an authenticated subscriber registers" {
  request {
    method    = "REGISTER"
    ruri      = "sip:example.com"
    from      = "sip:alice@example.com"
    to        = "sip:alice@example.com"
    source    = "203.0.113.50:5060"
    auth_user = "alice"
  }
  expect {
    action = "register"
    route  = route.register
    target = registrar
  }
}

test "an authenticated subscriber call goes to the pool" {
  request {
    method    = "INVITE"
    ruri      = "sip:100@example.com"
    from      = "sip:alice@example.com"
    source    = "203.0.113.50:5060"
    auth_user = "alice"
  }
  expect {
    action = "relay"
    route  = route.default
    target = pool.asterisk.member.ast1
  }
}

test "a DID goes to the box that owns it" {
  request {
    method = "INVITE"
    ruri   = "sip:+15551230001@example.com"
    source = "198.51.100.7:5060"
  }
  expect {
    action = "relay"
    route  = route.did
    target = pool.asterisk.member.ast2
  }
}

test "the longest owner prefix wins" {
  request {
    method = "INVITE"
    ruri   = "sip:+15551239999@example.com"
    source = "198.51.100.7:5060"
  }
  expect {
    route  = route.did
    target = pool.asterisk.member.ast3
  }
}

test "a DID falls back to the balance when its owner is down" {
  request {
    method = "INVITE"
    ruri   = "sip:+15551230001@example.com"
    source = "198.51.100.7:5060"
    down   = [pool.asterisk.member.ast2]
  }
  expect {
    action = "relay"
    route  = route.did
    target = pool.asterisk.member.ast1
  }
}

test "a mapped DID rings the registered subscriber" {
  request {
    method     = "INVITE"
    ruri       = "sip:+15559870001@example.com"
    source     = "198.51.100.7:5060"
    registered = ["alice"]
  }
  expect {
    action    = "relay"
    route     = route.subscriber
    target    = registrar
    ruri_user = "alice"
  }
}

test "a mapped DID whose subscriber is offline goes to the pool" {
  request {
    method = "INVITE"
    ruri   = "sip:+15559870002@example.com"
    source = "198.51.100.7:5060"
  }
  expect {
    route     = route.default
    ruri_user = "bob"
  }
}

# PSTN out: least-cost routing (pstn.hcl, docs/carriers.md).

test "New York goes to the carrier with the cheapest rate for +1212" {
  request {
    method  = "INVITE"
    ruri    = "sip:+12125550100@example.com"
    source  = "10.0.0.12:5060"
    call_id = "call-a@10.0.0.12"
  }
  expect {
    action = "relay"
    route  = route.pstn
    target = carrier.cheapo
    number = "+12125550100"
    # the failover order: the longest prefix, then +1 by priority and
    # weight (this Call-ID draws acme first), then the backup
    carriers = [carrier.cheapo, carrier.acme, carrier.zulu, carrier.bravo, carrier.backup]
  }
}

test "equal priorities split by weight: this call draws acme" {
  request {
    method  = "INVITE"
    ruri    = "sip:+13125550100@example.com"
    source  = "10.0.0.12:5060"
    call_id = "call-a@10.0.0.12"
  }
  expect {
    target = carrier.acme
  }
}

test "equal priorities split by weight: this call draws zulu" {
  request {
    method  = "INVITE"
    ruri    = "sip:+13125550100@example.com"
    source  = "10.0.0.12:5060"
    call_id = "call-h@10.0.0.12"
  }
  expect {
    target   = carrier.zulu
    carriers = [carrier.zulu, carrier.acme, carrier.bravo, carrier.backup]
  }
}

test "a carrier at its limits is skipped" {
  request {
    method   = "INVITE"
    ruri     = "sip:+12125550100@example.com"
    source   = "10.0.0.12:5060"
    call_id  = "call-a@10.0.0.12"
    at_limit = [carrier.cheapo]
  }
  expect {
    target   = carrier.acme
    carriers = [carrier.acme, carrier.zulu, carrier.bravo, carrier.backup]
  }
}

test "failover: the next priority, then the shorter prefix's backup" {
  request {
    method  = "INVITE"
    ruri    = "sip:+13125550100@example.com"
    source  = "10.0.0.12:5060"
    call_id = "call-a@10.0.0.12"
    down    = [carrier.acme, carrier.zulu]
  }
  expect {
    route    = route.pstn
    target   = carrier.bravo
    carriers = [carrier.bravo, carrier.backup]
  }
}

test "the UK goes to bravo, the backup behind it" {
  request {
    method = "INVITE"
    ruri   = "sip:+442079460000@example.com"
    source = "10.0.0.13:5060"
  }
  expect {
    route    = route.pstn
    target   = carrier.bravo
    carriers = [carrier.bravo, carrier.backup]
  }
}

test "France only by the backup, which wants 00 instead of +" {
  request {
    method = "INVITE"
    ruri   = "sip:+33123456789@example.com"
    source = "10.0.0.13:5060"
  }
  expect {
    target = carrier.backup
    number = "0033123456789"
  }
}

test "no carrier left: 503" {
  request {
    method   = "INVITE"
    ruri     = "sip:+33123456789@example.com"
    source   = "10.0.0.13:5060"
    at_limit = [carrier.backup]
  }
  expect {
    action = "reply"
    route  = route.pstn
    status = 503
  }
}

test "a DID call from bravo's network is trusted as the carrier" {
  request {
    method = "INVITE"
    ruri   = "sip:+15551230001@example.com"
    source = "203.0.113.70:5060"
  }
  expect {
    action = "relay"
    route  = route.did
    target = pool.asterisk.member.ast2
  }
}
