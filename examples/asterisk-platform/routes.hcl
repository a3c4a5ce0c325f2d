# Routes: first match wins, in this order.

route "register" {
  when = "method == 'REGISTER'"
  to   = registrar
}

route "subscriber" {
  when = "is_local(ruri.host) && registered(ruri.user)"
  to   = registrar
  fork = "parallel" # simultaneous ringing; "serial" is call hunting
}

route "did" {
  when   = "ruri.user.matches('^[+][0-9]+$') && !source_in('asterisk')"
  to     = pool.asterisk
  select = prefixes.did-owners # the owner box by longest prefix; balance is the fallback
}

route "pstn" {
  when = "source_in('asterisk') && ruri.user.startsWith('+')"
  to   = carriers # LCR: prefix, priority, weight, limits, quality
}

route "default" {
  to = pool.asterisk
}
