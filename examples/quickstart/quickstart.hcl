# Quickstart: sipfront on loopback in front of three Asterisk boxes.
# `sipfront demo` runs exactly this policy (with free ports swapped in)
# against three simulated boxes; `sipfront serve examples/quickstart` serves
# it for real once boxes listen on 127.0.0.1:5071-5073.

proxy {
  listen       = ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]
  advertise    = "127.0.0.1:5060"
  domains      = ["sipfront.test"]
  ring_timeout = "30s"
}

# Filters run first, in file order; the first that replies or drops decides.
filter "methods" {
  when   = "!(method in ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE'])"
  reply  = 405
  reason = "Method not allowed"
}

filter "scanners" {
  when = "user_agent.contains('friendly-scanner')"
  drop = true
  log  = "SECURITY: friendly scanner"
}

# The Asterisk pool: round robin, and a call that a box refuses (503) or
# does not answer within 2s goes to the next box.
pool "asterisk" {
  balance = "round-robin"
  failover {
    on        = [408, 500, 502, 503, 504]
    max_tries = 3
    timeout   = "2s"
  }
  member "ast1" { uri = "sip:127.0.0.1:5071" }
  member "ast2" { uri = "sip:127.0.0.1:5072" }
  member "ast3" { uri = "sip:127.0.0.1:5073" }
}

# Routes are checked in file order, first match wins.
route "extensions" {
  when = "ruri.user.matches('^[0-9]{3}$')"
  to   = pool.asterisk
}

route "default" {
  to = pool.asterisk
}
