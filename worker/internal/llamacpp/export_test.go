package llamacpp

// Kill ends the peer's process abruptly, as a crash would.
func (p *Peer) Kill() error { return p.cmd.Process.Kill() }
