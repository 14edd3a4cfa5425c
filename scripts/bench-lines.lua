-- GETs from a list for `make bench` (scripts/bench.sh): each request takes
-- a random line of FILE, "<token> <path>" (token "-": no Authorization),
-- so many callers and many keys are asked for (scripts/bench-prep.py
-- writes the lists: creators' dashboards, community pages).
--   wrk -s scripts/bench-lines.lua http://127.0.0.1:PORT -- FILE
local lines = {}

function init(args)
	for line in io.lines(args[1]) do
		local tok, path = line:match("^(%S+) (%S+)$")
		if tok then
			table.insert(lines, { tok, path })
		end
	end
	-- each wrk thread draws its own sequence
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
	local l = lines[math.random(#lines)]
	if l[1] == "-" then
		return wrk.format("GET", l[2])
	end
	return wrk.format("GET", l[2], { ["Authorization"] = "Bearer " .. l[1] })
end
