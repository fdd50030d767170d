"""nbgrader's settings for the Descent course, read by the Validate button and `nbgrader validate`.

nbgrader looks for this file in the folder it runs in; `python -m autograder release` copies it
into the release beside the notebooks (without it, every run warns "No nbgrader_config.py file
found"). The autograder itself configures nbgrader in code and does not read it.
"""
c = get_config()  # noqa: F821 - nbgrader defines get_config when it loads this file

# Validate cuts every line of a failure at this width (nbgrader's default, 90, hides the end of
# a check's message). The checks also wrap their messages below 80 characters, diagnosis first.
c.Validator.width = 160
