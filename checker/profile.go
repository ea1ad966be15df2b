package checker

// Profile is the profile the engine evaluates (ProfileInstance or
// ProfileImage), for reports of sources that gave no document.
func (e *Engine) Profile() string { return e.profile }
