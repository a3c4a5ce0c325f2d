# Duplicate names and singleton blocks.
proxy {
  domains = ["example.com"]
}
proxy { # ERROR 1: Duplicate Proxy Block
  domains = ["example.org"]
}

filter "scanners" {
  when = "user_agent.contains('friendly-scanner')"
  drop = true
}
filter "scanners" { # ERROR 8: Duplicate Filter Name
  when = "user_agent.contains('sipvicious')"
  drop = true
}

pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
  member "ast1" { uri = "sip:10.0.0.12" } # ERROR 10: Duplicate Member Name
}

route "a" {
  when = "method == 'INVITE'"
  to   = pool.asterisk
}
route "a" { # ERROR 7: Duplicate Route Name
  to = pool.asterisk
}
