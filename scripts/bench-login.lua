-- Sign-ins for `make bench` (scripts/bench.sh): POST /api/auth/login as a
-- random one of the USERS demo users seed-demo --scale made (demoN@example.com,
-- all with the demo password).  The password hash is slow by design and
-- runs on the server's worker pool, so this measures the pool.
--   wrk -s scripts/bench-login.lua http://127.0.0.1:PORT -- USERS
local users = 10000

function init(args)
	users = tonumber(args[1] or users)
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
	return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" },
		string.format('{"email":"demo%d@example.com","password":"demo-password-not-for-production"}',
			math.random(users)))
end
