# PSTN carriers for least-cost routing: the longest matching prefix, then
# priority (lower first), then weight; limits and quality skip a carrier.

carrier "acme" {
  uri      = "sip:gw1.acme.example:5060"
  prefixes = ["+1"]
  priority = 1

  limits {
    calls = 200
    cps   = 20
  }

  quality {
    min_asr = 0.3
    window  = "10m"
  }

  auth {
    username = "trunk01"
    # The default keeps the example runnable; production policies write
    # env("ACME_PASSWORD") so that a missing secret fails the compile.
    password = env("ACME_PASSWORD", "example-only")
  }
}

carrier "bravo" {
  uri      = "sip:sbc.bravo.example"
  prefixes = ["+1", "+44"]
  priority = 2
}
