# Routes: first match wins.
route "register" {
  when="method == 'REGISTER'"   # registrations
  to = registrar
}



route "default" {
    to   =   pool.asterisk     # everything else
}


