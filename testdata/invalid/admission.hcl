# The admission limit counts INVITEs waiting for a member's first answer:
# zero would refuse every call, and -1 (no limit) is for --max-inflight only.
proxy {
  max_inflight = 0 # ERROR 18: Invalid Admission Limit
}

pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
}

route "all" {
  to = pool.asterisk
}
