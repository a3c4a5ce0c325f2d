# Invalid values in the flood and limits blocks and proxy.server_header.
proxy {
  server_header = "sipfront\r\nX-Injected: 1" # ERROR 19: Invalid Header Value
}

trusted "carriers" {
  sources = ["192.0.2.0/24"]
}

flood {
  window       = "10ms"   # ERROR 18: Invalid Duration
  max_requests = 0        # ERROR 18: Invalid Limit
  block        = "2m"
  action       = "reject" # ERROR 18: Invalid Flood Action
  exempt       = [trusted.carrier, pool.asterisk] # ERROR 19: Reference To Undeclared Block
  # ERROR security.hcl:15:36: Invalid Reference
  max_sources  = 10       # ERROR 18: Invalid Limit
}

flood { # ERROR 1: Duplicate Flood Block
}

limits {
  max_message_udp     = 70000 # ERROR 25: Invalid Limit
  max_body            = 40000 # ERROR 25: Invalid Limit
  max_headers         = 4     # ERROR 25: Invalid Limit
  max_via             = 300   # ERROR 25: Invalid Limit
  tcp_max_connections = 10
  tcp_max_per_source  = 0     # ERROR 25: Invalid Limit
  tcp_idle_timeout    = "500ms" # ERROR 25: Invalid Duration
}

pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
}

route "all" {
  to = pool.asterisk
}
