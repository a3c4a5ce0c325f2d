# References to blocks that do not exist.
trusted "carriers" { sources = ["198.51.100.0/24"] }

credentials "subscribers" { file = "subscribers.csv" }

auth "endpoints" {
  trust       = [trusted.carrier] # ERROR 18: Reference To Undeclared Block
  credentials = credentials.subscriber # ERROR 17: Reference To Undeclared Block
  realm       = "example.com"
}

pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
}

route "register" {
  when = "method == 'REGISTER'"
  to   = registrar # ERROR 10: Reference To Undeclared Block
}
route "pstn" {
  when = "method == 'INVITE'"
  to   = carrier.acme # ERROR 10: Reference To Undeclared Block
}
route "did" {
  when   = "ruri.user.startsWith('+')"
  to     = pool.astrisk # ERROR 12: Reference To Undeclared Block
  select = prefixes.owners # ERROR 12: Reference To Undeclared Block
}
route "typo" {
  when = "method == 'BYE'"
  to   = pools.asterisk # ERROR 10: Invalid Route Target
}
route "quoted" {
  when = "method == 'ACK'"
  to   = "pool.asterisk" # ERROR 10: Invalid Reference
}
