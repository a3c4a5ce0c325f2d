# env() reads the environment at compile time; a missing variable is an
# error unless a default is given.
carrier "acme" {
  uri = "sip:gw1.acme.example"
  auth {
    username = env("SIPFRONT_TEST_SECRET")
    password = env("SIPFRONT_SURELY_UNSET_VARIABLE") # ERROR 16: Error in function call
  }
}

carrier "bravo" {
  uri = "sip:sbc.bravo.example"
  auth {
    username = "trunk02"
    password = env("SIPFRONT_SURELY_UNSET_VARIABLE", "fallback")
  }
}
