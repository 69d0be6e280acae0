"""How a ticket comes to a close: a waiting ticket followed up and resolving itself, the requester asked
whether it is solved (Yes closes, No reopens), closing itself without an answer, and the survey after."""
