"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test fetches get-pip from a host these machines cannot reach. It runs this file the way it runs
get-pip (``GET_PIP`` in the environment, pip options and pinned packages in ``sys.argv``): ensurepip
provides a pip from the interpreter, then the pinned packages come from PyPI like any other install.
"""
import subprocess
import sys

_GET_PIP_ONLY = {'--no-setuptools', '--no-wheel'}

subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
args = [a for a in sys.argv[1:] if a not in _GET_PIP_ONLY]
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
