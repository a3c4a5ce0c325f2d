# A policy with one mistake of each kind validate must locate.

proxy {
  listen  = ["udp:0.0.0.0:5060"]
  domains = ["example.com"]
}

filter "scanners" {
  when = "user_agent.contains('friendly-scanner') && method = 'INVITE'"
  drop = true
}

pool "asterisk" {
  balance = "round-robin"
  member "ast1" { uri = "sip:10.0.0.11:5060" }
}

route "default" {
  to = pool.asterisk
}

route "late" {
	when = "method == 'INVITE'"
	to   = pool.asterix
}
