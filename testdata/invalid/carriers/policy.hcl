# Carrier blocks: least-cost routing, number manipulation, limits,
# quality, carrier auth and the exit socket.
proxy {
  listen = ["udp:0.0.0.0:5060", "udp:203.0.113.5:5070"]
  exit   = "udp:203.0.113.5:5080" # ERROR 12: Exit Is Not A Listen Address
}

trusted "asterisk" { sources = ["10.0.0.0/24"] }

carrier "acme" {
  uri           = "sip:198.51.100.10"
  prefixes      = ["+1", "+1"] # ERROR 26: Duplicate Prefix
  prefixes_file = "rates.csv"
  # ERROR rates.csv:4:1: Invalid Prefix
  # ERROR rates.csv:5:5: Invalid Priority
  # ERROR rates.csv:7:1: Duplicate Prefix
  strip   = -1      # ERROR 13: Invalid Strip
  prepend = "00x"   # ERROR 13: Invalid Prepend
  exit    = "udp:0.0.0.0:5060" # ERROR 13: Invalid Exit Address

  failover { on = [180] } # ERROR 20: Invalid Failover Code

  quality {
    min_asr     = 0.4
    warn_asr    = 0.2 # ERROR 19: Invalid ASR
    min_samples = 0   # ERROR 19: Invalid Min Samples
    max_pdd     = "0s" # ERROR 19: Invalid Duration
  }

  auth {
    username         = "trunk01"
    password         = "secret"
    register_expires = "2m" # WARNING 24: Expires Without Register
  }
}

carrier "bravo" {
  uri      = "sip:sbc.bravo.example"
  prefixes = ["+44"]
  exit     = "udp:203.0.113.5:5070" # a listen address: fine
  limits {
    calls = 10 # WARNING 13: Calls Limit Without Max Call Duration
    cps   = 5  # without calls: no warning
  }

  auth {
    username         = "trunk02"
    password         = "secret"
    register         = true
    register_expires = "30s" # ERROR 24: Invalid Duration
  }
}

credentials "subscribers" { file = "../subscribers.csv" }

auth "trunks" {
  trust       = [carrier.acme, carrier.bravo] # ERROR 32: Carrier Without Sources
  credentials = credentials.subscribers
  realm       = "example.com"
}

route "pstn" {
  when = "source_in('asterisk') && !source_in('carrier.acme')"
  to   = carriers
}
