# registrar and forking settings that cannot work.

proxy {
  listen  = ["udp:127.0.0.1:5060"]
  domains = ["sipfront.test"]
}

pool "asterisk" {
  member "ast1" { uri = "sip:127.0.0.1:5070" }
}

route "register" {
  when = "method == 'REGISTER'"
  to   = registrar
}

route "hunt" {
  when         = "registered(ruri.user)"
  to           = registrar
  fork         = "serial"
  fork_timeout = "500ms" # ERROR 18: Invalid Duration
}

route "default" {
  to           = pool.asterisk
  fork_timeout = "20s" # ERROR 18: Fork Without Registrar
}

registrar {
  max_expires = "5m"
  min_expires = "10m" # ERROR 17: Invalid Duration
}
