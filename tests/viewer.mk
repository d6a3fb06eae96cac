# tests/viewer.mk - the two C helpers of tests/tools/eap-viewer.sh: the
# DevTools-pipe driver of headless Chromium and the reader of the viewer's
# embedded data.  Included by the Makefile; built before the tool tests.
build/tests/cdp-run: tests/viewer/cdp-run.c build/config.mk
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(PC_LIBS) $(LDLIBS)

build/tests/viewer-json: tests/viewer/viewer-json.c build/config.mk
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(PC_LIBS) $(LDLIBS)

tool-tests: build/tests/cdp-run build/tests/viewer-json
