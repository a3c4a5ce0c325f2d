# Test blocks are checked against the graph too.
filter "scanners" {
  when = "user_agent.contains('friendly-scanner')"
  drop = true
}

test "bad expectations" {
  request {
    method = "INVITE"
    ruri   = "sip:100@example.com"
    source = "203.0.113.9"
    down   = [pool.nope.member.ast1] # ERROR 15: Unknown Member Or Carrier
  }
  expect {
    action = "dropped" # ERROR 14: Invalid Action
    by     = filter.scaners # ERROR 14: Unknown Node
    target = carrier.acme # ERROR 14: Unknown Target
  }
}

test "bad request" {
  request {
    method = "INVITE"
    ruri   = "tel:+15551230001" # ERROR 14: Invalid SIP URI
    source = "somewhere" # ERROR 14: Invalid Source
  }
  expect { action = "drop" }
}

test "no expectations" { # ERROR 1: Incomplete Test
  request {
    method = "INVITE"
    ruri   = "sip:100@example.com"
  }
}
