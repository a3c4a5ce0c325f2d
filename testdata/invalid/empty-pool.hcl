# A pool needs members.
pool "asterisk" { # ERROR 6: Pool Without Members
  balance = "least-calls"
}
