-- Random-key workload for `make bench` (issue 9): thousands of distinct
-- URLs, so most list and search keys are cold and the response cache does
-- not hide the server.  wrk calls request() once per request.
--   wrk -s scripts/bench-random.lua http://127.0.0.1:PORT -- MIX MODELS
-- MIX: list | search | detail | mix (40% detail, 30% list, 20% search,
-- 10% categories); MODELS: the highest model id to pick from.
local categories = { "characters", "vehicles", "architecture", "environments", "props", "furniture",
	"animals", "nature", "sci-fi", "fantasy", "electronics", "textures-materials" }
local sorts = { "newest", "popular", "price_low", "price_high" }
local words = { "cyberpunk", "robot", "dragon", "castle", "neon", "forest", "car", "ship", "lowpoly",
	"sword", "helmet", "chair", "tree", "rock", "tower", "planet", "engine", "armor", "temple",
	"drone", "lamp", "crate", "knight", "alien" }
local mix, models = "mix", 50000

function init(args)
	mix = args[1] or mix
	models = tonumber(args[2] or models)
	-- each wrk thread draws its own sequence
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

local function pick(t)
	return t[math.random(#t)]
end

local function list_url()
	return string.format("/api/models?page=%d&sort=%s&category=%s", math.random(200), pick(sorts),
		pick(categories))
end

local function search_url()
	local q = pick(words)
	if math.random(2) == 1 then
		q = q .. "%20" .. pick(words)
	end
	return string.format("/api/models?search=%s&page=%d", q, math.random(5))
end

local function detail_url()
	return string.format("/api/models/%d", math.random(models))
end

local function categories_url()
	return string.format("/api/categories?page=%d&limit=%d", math.random(3), math.random(5, 20))
end

function request()
	local path
	if mix == "list" then
		path = list_url()
	elseif mix == "search" then
		path = search_url()
	elseif mix == "detail" then
		path = detail_url()
	else
		local r = math.random(100)
		if r <= 40 then
			path = detail_url()
		elseif r <= 70 then
			path = list_url()
		elseif r <= 90 then
			path = search_url()
		else
			path = categories_url()
		end
	end
	return wrk.format("GET", path)
end
