-- wrk script: every request is a password login (argon2id verification on the server).
wrk.method = "POST"
wrk.body = '{"username": "alice", "password": "correct horse battery staple"}'
wrk.headers["Content-Type"] = "application/json"
