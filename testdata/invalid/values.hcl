# Values that parse as HCL but are not valid sipfront values.
proxy {
  listen       = ["udp:0.0.0.0:5060", "sctp:0.0.0.0:5060"] # ERROR 39: Invalid Listen Address
  ring_timeout = "3 minutes" # ERROR 18: Invalid Duration
}

trusted "carriers" {
  sources = ["198.51.100.0/24", "198.51.100.0/33", "10.0.0.1"] # ERROR 33: Invalid CIDR
}

filter "ok-status" {
  when  = "method == 'FOO'"
  reply = 200 # ERROR 11: Invalid Status Code
}
filter "big-status" {
  when  = "method == 'BAR'"
  reply = 700 # ERROR 11: Invalid Status Code
}

pool "asterisk" {
  balance = "round-robbin" # ERROR 13: Invalid Balance

  failover {
    on        = [408, 200, 503] # ERROR 23: Invalid Failover Code
    max_tries = 0 # ERROR 17: Invalid Max Tries
    timeout   = "soon" # ERROR 17: Invalid Duration
  }

  member "ast1" { uri = "http://10.0.0.11" } # ERROR 25: Invalid SIP URI
  member "ast2" { uri = "sip:10.0.0.12:99999" } # ERROR 25: Invalid SIP URI
  member "ast3" {
    uri    = "sip:10.0.0.13"
    weight = 0 # ERROR 14: Invalid Weight
  }
}

carrier "acme" {
  uri      = "sip:gw1 acme.example" # ERROR 14: Invalid SIP URI
  prefixes = ["+1", "1-800"] # ERROR 21: Invalid Prefix
  quality {
    min_asr = 30 # ERROR 15: Invalid ASR
  }
}

route "registrar" {
  when = "method == 'REGISTER'"
  to   = registrar
  fork = "paralel" # ERROR 10: Invalid Fork
}

registrar {
  max_expires = 3600 # ERROR 17: Invalid Duration
}
