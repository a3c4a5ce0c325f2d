# Accepting 408 as a good probe answer hides dead hosts.
pool "asterisk" {
  probe {
    accept = ["2xx", "408", "4xx", "2xy"] # WARNING 22: Probe Accepts 408
    # WARNING probe.hcl:4:29: Probe Accepts 408
    # ERROR probe.hcl:4:36: Invalid Probe Accept
  }
  member "ast1" { uri = "sip:10.0.0.11" }
}

pool "timing" {
  probe {
    interval = "1s"
    timeout  = "2s" # ERROR 16: Invalid Probe Timing
    recover  = 0 # ERROR 16: Invalid Probe Count
  }
  member "ast1" { uri = "sip:10.0.0.11" }
}
