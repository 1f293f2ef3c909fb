"""Products, stock, orders, group buys and deals: the domain over storage, knowing nothing of HTTP or WeChat."""
