# A small platform for plan tests: every case edits a copy of it.

proxy {
  listen    = ["udp:0.0.0.0:5060"]
  advertise = "sip.example.com"
  domains   = ["example.com"]
}

filter "methods" {
  when   = "!(method in ['INVITE', 'ACK', 'CANCEL', 'REGISTER', 'OPTIONS', 'BYE'])"
  reply  = 405
  reason = "Method not allowed"
}

filter "scanners" {
  when = "user_agent.contains('friendly-scanner')"
  drop = true
}

trusted "asterisk" { sources = ["10.0.0.0/24"] }

pool "asterisk" {
  balance = "round-robin"
  member "ast1" { uri = "sip:10.0.0.11:5060" }
  member "ast2" { uri = "sip:10.0.0.12:5060" }
}

prefixes "did-owners" {
  file = "did-owners.csv"
}

carrier "acme" {
  uri      = "sip:gw1.acme.example:5060"
  prefixes = ["+1"]
  priority = 1
}

route "pstn" {
  when = "source_in('asterisk') && ruri.user.startsWith('+')"
  to   = carriers
}

route "did" {
  when   = "ruri.user.matches('^[+][0-9]+$')"
  to     = pool.asterisk
  select = prefixes.did-owners
}

route "default" {
  to = pool.asterisk
}
