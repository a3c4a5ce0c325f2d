# PSTN carriers for least-cost routing (docs/carriers.md): the longest
# prefix of the number any carrier serves, then priority (lower first);
# equal priorities split calls by weight, per Call-ID; then the carriers of
# shorter prefixes (backup "+"). Limits, quality and health skip a carrier;
# the failover block sends the call on to the next one.

carrier "cheapo" { # a rates table: prefix,priority rows
  uri           = "sip:198.51.100.20:5060"
  prefixes_file = "cheapo-rates.csv"
  priority      = 1

  limits {
    calls = 20
    cps   = 10
  }
}

carrier "acme" {
  uri      = "sip:198.51.100.10:5060"
  prefixes = ["+1"]
  priority = 1
  weight   = 3 # acme takes 3 of every 4 calls that zulu could also take

  failover {
    on        = [408, 500, 502, 503, 504]
    max_tries = 3
    timeout   = "3s"
  }

  limits {
    calls = 200
    cps   = 20
  }

  quality {
    min_asr     = 0.3 # critical: tried only when no other carrier can
    warn_asr    = 0.5 # warning: half its share
    min_samples = 30
    max_pdd     = "8s"
    window      = "10m"
  }

  auth {
    username = "trunk01"
    # The default keeps the example runnable; production policies write
    # env("ACME_PASSWORD") so that a missing secret fails the compile.
    password = env("ACME_PASSWORD", "example-only")
  }
}

carrier "zulu" {
  uri      = "sip:198.51.100.30:5060"
  prefixes = ["+1"]
  priority = 1
  weight   = 1
}

carrier "bravo" {
  uri      = "sip:sbc.bravo.example"
  sources  = ["203.0.113.64/28"] # where bravo's calls come from
  prefixes = ["+1", "+44"]
  priority = 2

  auth {
    username         = "sipfront"
    password         = env("BRAVO_PASSWORD", "example-only")
    register         = true # bravo wants a registration (uac_registrant)
    register_expires = "1h"
  }
}

carrier "backup" { # catches every number the others cannot take
  uri      = "sip:198.51.100.40:5060"
  prefixes = ["+"]
  priority = 9
  strip    = 1    # "+" off
  prepend  = "00" # international prefix: +33... is sent as 0033...

  probe {
    interval = "10s"
    timeout  = "2s"
  }
}
