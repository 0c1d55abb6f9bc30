"""NitroGen plays: a real game on the server, closed loop (issue #21). Gradio-free.

    catalog.py   games, scenarios, licences (torch- and game-free: the page reads it)
    specs.py     the Play parameters (shared.io.params)
    mapping.py   the declared gamepad -> game mapping per game, dead zones, 60 Hz -> tic resampling
    doom.py      the ViZDoom adapter (Freedoom content from the vizdoom wheel; headless)
    agents.py    NitroGen (the /agent_frame engine and preprocessing) and the random baseline
    record.py    episode recording: mp4 with the gamepad overlay, actions, rewards, stats
    loop.py      the closed loop, lockstep and real time
"""
