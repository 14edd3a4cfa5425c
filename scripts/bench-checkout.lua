-- Checkout workload for `make bench`: every request buys one model for one
-- buyer, from the pairs scripts/bench-checkout.py wrote ("token model_id"
-- per line); wrk thread k takes lines k, k+T, k+2T...  Run out of pairs
-- and the repeats answer 409 (already owned), counted as non-2xx.
-- With MODE "cart" each request adds the model to the buyer's cart
-- (POST /api/cart) instead.
--   wrk -tT -s scripts/bench-checkout.lua URL -- PAIRS_FILE T [MODE]
local counter = 1
local pairs_, pos, step, mode = {}, 0, 1, "checkout"

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
end

function init(args)
	for line in io.lines(args[1]) do
		local tok, mid = line:match("^(%S+) (%d+)$")
		if tok then
			table.insert(pairs_, { tok, mid })
		end
	end
	step = tonumber(args[2] or "1")
	mode = args[3] or mode
	pos = tid - step
end

function request()
	pos = pos + step
	local p = pairs_[(pos - 1) % #pairs_ + 1]
	if mode == "cart" then
		return wrk.format("POST", "/api/cart", {
			["Authorization"] = "Bearer " .. p[1],
			["Content-Type"] = "application/json",
		}, '{"model_id":' .. p[2] .. '}')
	end
	return wrk.format("POST", "/api/checkout", {
		["Authorization"] = "Bearer " .. p[1],
		["Content-Type"] = "application/json",
	}, '{"model_ids":[' .. p[2] .. '],"payment_method":"card","payment_details":{"card_token":"tok_visa"}}')
end
