"""Pure price rules over integer fen: money formatting, ladders, group-buy tiers, quotes. Standard library only."""
