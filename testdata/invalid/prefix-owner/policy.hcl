# A prefix table may only name members of the pool its route sends to.
pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
  member "ast2" { uri = "sip:10.0.0.12" }
}

prefixes "owners" {
  file = "owners.csv"
  # ERROR owners.csv:3:10: Unknown Member
  # ERROR owners.csv:5:10: Unknown Member
}

route "did" {
  to     = pool.asterisk
  select = prefixes.owners
}
