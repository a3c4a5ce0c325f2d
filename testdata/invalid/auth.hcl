# The brute-force limits, the nonce lifetime and the offered algorithms of
# an auth stage are checked for sensible ranges.
credentials "subs" { file = "subscribers.csv" }

auth "limits" {
  credentials    = credentials.subs
  realm          = "example.com"
  nonce_ttl      = "2h"           # ERROR 20: Invalid Duration
  max_failures   = -1             # ERROR 20: Invalid Failure Limit
  failure_window = "0s"           # ERROR 20: Invalid Duration
  block          = "192h"         # ERROR 20: Invalid Duration
  algorithms     = ["SHA256", "MD5", "md5"] # ERROR 21: Unknown Digest Algorithm
  # ERROR auth.hcl:12:38: Duplicate Digest Algorithm
}

auth "off" {
  credentials  = credentials.subs
  realm        = "example.com"
  algorithms   = [] # ERROR 18: No Digest Algorithm
  max_failures = 0 # WARNING 18: Throttle Turned Off
  block_drop   = true
  check_from   = "yes" # ERROR 18: Incorrect Value Type
}
