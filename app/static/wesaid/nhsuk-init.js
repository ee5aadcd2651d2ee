// Starts the NHS.UK frontend components on every page. This is a file, not an inline
// script, so pages keep a Content-Security-Policy without 'unsafe-inline'. Browsers
// that load modules run it; others get the pages without JavaScript, which work.
import { initAll } from '../nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
