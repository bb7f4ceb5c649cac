# Reference for RubyGems versions: Gem::Version from Debian's ruby. Protocol: see ref_apt.py.
require 'rubygems'

def decode(field)
  [field[1..]].pack('H*').force_encoding('UTF-8')
end

def version(text)
  Gem::Version.new(text)
rescue ArgumentError
  nil
end

out = STDIN.each_line.map do |line|
  a, b = line.split.map { |field| decode(field) }
  va = version(a)
  next 'EA' if va.nil?
  vb = version(b)
  next 'EB' if vb.nil?
  (va <=> vb).to_s
end
STDOUT.write(out.join("\n") + "\n")
